"""Tools on top of AD: numeric differences (``numeric``, no AD inside), AD against them
(``comparison``), the evaluation-trace printer (``evaluation``), the formula parser
(``expr``) and the command line (``cli``).
"""
