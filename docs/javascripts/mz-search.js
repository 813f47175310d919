/* Search result links: Material adds "?h=" with the matched terms to highlight them on the
 * page; a page listed only because one of its sections matched gets an empty "?h=", which
 * highlights nothing and reads as a broken link. Drop the empty parameter. */
(function () {
  "use strict";
  function clean(root) {
    root.querySelectorAll('a[href*="?h="]').forEach(function (a) {
      var href = a.getAttribute("href");
      var fixed = href.replace(/\?h=(#|$)/, "$1");
      if (fixed !== href) a.setAttribute("href", fixed);
    });
  }
  function watch() {
    var list = document.querySelector(".md-search-result__list");
    if (!list) return;
    new MutationObserver(function () { clean(list); }).observe(list, {
      childList: true,
      subtree: true,
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
