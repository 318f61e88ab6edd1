"""Fixtures for image tests: a fresh image service and busybox imported into it."""
from __future__ import annotations

from pathlib import Path

import pytest

from berth.image import ImageService


@pytest.fixture
def images(tmp_path: Path) -> ImageService:
    return ImageService(tmp_path / "data")


@pytest.fixture
def busybox(images: ImageService, busybox_tar: Path) -> str:
    with open(busybox_tar, "rb") as stream:
        return images.import_image(stream, "busybox:latest", ['CMD ["sh"]'], "")


def no_users(image_id: str) -> list:
    return []
