"""Rendered storefront HTML (and the settings copy pages show), kept for a few seconds in each process.

The catalog is what a festival-sale crowd reloads; re-running its queries and formatting every price
for each visitor made it cost twenty times a static page. A rendered block is reused for
STOREFRONT_CACHE_SECONDS (0 turns this off). That bound is how stale a "sold out" badge may be on a
page someone just opened: the cart and checkout never read from here, they check stock themselves.

A commit in this process that touches the catalog, stock or the shop's settings empties the cache at
once, so staff see their own edits on the next page; other processes catch up within the bound. What depends
on the settings alone (the copy pages show) is kept through a commit that only touched the catalog or stock:
every checkout reserves stock, and re-reading the settings after each would cost a query per page.
"""

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from checkout.models.catalog import Category, Product, StockMovement, Variant
from checkout.models.orders import StockReservation
from checkout.models.store import StoreSettings

# What a rendered catalog depends on: a change to any of these makes cached pages stale.
WATCHED_MODELS = (Category, Product, Variant, StockMovement, StockReservation, StoreSettings)
MAX_ENTRIES = 512  # searches make keys without end; past this the cache starts over

T = TypeVar("T")
# Bumped by every commit that changed something a page shows ("catalog"), or the shop's settings ("settings").
_generations = {"catalog": 0, "settings": 0}


class RenderedPages:
    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[float, int, object]] = {}
        self._lock = threading.Lock()

    def get_or_build(self, key: Hashable, seconds: float, build: Callable[[], T], watch: str = "catalog") -> T:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[0] > now and entry[1] == _generations[watch]:
            return entry[2]
        generation = _generations[watch]
        value = build()
        if seconds > 0:
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now + seconds, generation, value)
        return value


def reuse(key: Hashable, build: Callable[[], T], *, watch: str = "catalog") -> T:
    """What `build()` returns, reused for STOREFRONT_CACHE_SECONDS: rendered HTML or a detached copy, never
    an object a session holds (it would be read across requests and threads). `watch="settings"`: it depends
    on the shop's settings alone, and only their changes make it stale."""
    pages = current_app.extensions.setdefault("chatout_rendered_pages", RenderedPages())
    return pages.get_or_build(key, current_app.config["STOREFRONT_CACHE_SECONDS"], build, watch)


def rendered(key: Hashable, render: Callable[[], str]) -> Markup:
    """The HTML `render()` returns, reused for STOREFRONT_CACHE_SECONDS."""
    return reuse(key, lambda: Markup(render()))


def _touches_watched(objects) -> bool:
    return any(isinstance(obj, WATCHED_MODELS) for obj in objects)


def _touches_settings(objects) -> bool:
    return any(isinstance(obj, StoreSettings) for obj in objects)


@event.listens_for(Session, "after_flush")
def _note_catalog_changes(session, flush_context) -> None:
    if _touches_watched(session.new) or _touches_watched(session.dirty) or _touches_watched(session.deleted):
        session.info["catalog_changed"] = True
    if _touches_settings(session.new) or _touches_settings(session.dirty) or _touches_settings(session.deleted):
        session.info["settings_changed"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_catalog_changes(state) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and issubclass(mapper.class_, WATCHED_MODELS):
        state.session.info["catalog_changed"] = True
        if issubclass(mapper.class_, StoreSettings):
            state.session.info["settings_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_stale_pages(session) -> None:
    if session.info.pop("catalog_changed", False):
        _generations["catalog"] += 1
    if session.info.pop("settings_changed", False):
        _generations["settings"] += 1


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_changes(session) -> None:
    session.info.pop("catalog_changed", None)
    session.info.pop("settings_changed", None)
