"""Experiments: reproduction configs (2CR style), the settings search, and the paper-style reports.

* :mod:`.schema` — the typed configs (reproduction config, tune grid) and the placeholders;
* :mod:`.reproduction` — plan, run, evaluate and check the conditions of a config;
* :mod:`.tuning` — choose distillation settings on dev, train and test the chosen students;
* :mod:`.report` — tables (Markdown, LaTeX), significance, gaps and plots of a collection.
"""
