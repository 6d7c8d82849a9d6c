"""The forward engine and its drivers: seeding, one pass, input checks and the memory
budget (``forward``); passes in chunks on workers (``parallel``); compressed passes by
colours (``sparse``); compiled passes replayed (``jit``). Imports no verb.
"""
