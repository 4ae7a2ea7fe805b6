"""Cache: profiles, keys, what each build imports and exports, S3 transport, administration."""
