"""berth's registry server: the OCI Distribution Spec v1.1 on filesystem storage, its blobs in berth.store."""
