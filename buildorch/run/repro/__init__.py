"""`repro`: a recorded run rebuilt here, and its digests compared with the record."""
