"""Images: references, configs, manifests, the image catalog, import/export, commit, save/load."""
from berth.image.errors import ImageConflict, ImageNotFound, InvalidFilter, InvalidImage, InvalidReference
from berth.image.service import ContainerUse, ImageService

__all__ = ["ContainerUse", "ImageConflict", "ImageNotFound", "ImageService", "InvalidFilter", "InvalidImage",
           "InvalidReference"]
