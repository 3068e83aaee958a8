"""edXML (QCVN 102:2016) envelope codec (built by the edXML issue)."""
