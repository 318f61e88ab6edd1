"""The registry client: which endpoints to trust, authentication, pulling into the image store and
pushing from it, with Docker's progress messages."""
