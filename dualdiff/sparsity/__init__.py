"""The sparsity carrier: the dependency tracer that finds Jacobian patterns
(``tracer``) and the column colouring (``coloring``).
"""
