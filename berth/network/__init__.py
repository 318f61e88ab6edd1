"""Container networking: drivers, address management (IPAM) and the store of network state."""
