"""The ARC evaluation protocol (``protocol``, numpy only) and the official predictions file
(``official_preds``, torch). Import the one you need; this package imports neither eagerly,
so the window can use the protocol without loading torch.
"""
