"""Layer archives: safe unpacking with whiteouts, diffs of overlay upper directories, the layer store."""
from berth.layer.apply import Applied, LayerError, apply_tar
from berth.layer.changes import ADDED, DELETED, MODIFIED, Change, changes
from berth.layer.store import Layer, LayerNotFound, LayerStore, chain_ids
from berth.layer.tarwriter import write_tree

__all__ = ["ADDED", "DELETED", "MODIFIED", "Applied", "Change", "Layer", "LayerError", "LayerNotFound",
           "LayerStore", "apply_tar", "chain_ids", "changes", "write_tree"]
