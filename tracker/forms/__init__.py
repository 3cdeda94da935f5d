"""The forms, one module per area (Flask-WTF: every form carries a CSRF token; drawn with
GOV.UK Frontend widgets): ``common`` (fields every area uses, the confirm button),
``accounts`` (signing in, passwords, two factors), ``updates`` (quarterly updates, reviews,
locks, escalations), ``kpis``, ``changes`` (change requests), ``admin``, ``board``
(commentary, layouts) and ``stories``."""
