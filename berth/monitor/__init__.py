"""Container monitors: small detached processes that own a container's stdio, logs and exit status.

The daemon asks a pre-warmed zygote (`python -m berth.monitor.zygote`) to fork one monitor per
container or exec; it talks to monitors through `berth.monitor.client`.
"""
