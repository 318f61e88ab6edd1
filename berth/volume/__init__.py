"""Volumes: named storage that outlives containers, behind a driver seam (`local` first)."""
