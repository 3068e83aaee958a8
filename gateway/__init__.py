"""Reference hub speaking the VXP HTTP interface (built by the gateway issue)."""
