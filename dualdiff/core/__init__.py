"""The core every layer stands on: errors and their messages, perturbation tags, and the
ndarray methods (``ArrayMethods``) that the array-like carriers share. Imports nothing of
dualdiff.
"""
