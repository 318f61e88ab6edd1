"""Raw Linux system calls through ctypes. No policy lives here."""
