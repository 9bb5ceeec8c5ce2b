"""HTTP tests of every operation, one module per module of ``mockserver/handlers``."""
