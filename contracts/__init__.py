"""Contract suites that hold a server (codat-mock, or anything else speaking the contract) to
``openapi.yaml``."""
