"""The custody ledger: a Merkle transparency log of custody events.

The pure modules (``canonical``, ``merkle``, ``note``, ``verify``) import only
the standard library, ``cryptography`` and ``rfc8785``, so an inspector can
run the verifier without the rest of Caliber.
"""
