"""Chain access: one Protocol, Bitcoin Core / Esplora / Electrum adapters, SPV checks."""
