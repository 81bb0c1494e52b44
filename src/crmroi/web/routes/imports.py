"""Routes of the imports area (pages and /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
