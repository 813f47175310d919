"""What an evaluation is used for: reform impact over a register (:mod:`.reform`) and a
household's printable 幸福清单 (:mod:`.plan`)."""
