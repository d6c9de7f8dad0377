"""The JSON API under ``/api``, every route behind :func:`tally.dashboard.auth.authorize`:
the operator may use all of it, a signed chat link only the routes with its ``{chat_id}``.

Each router carries its full path prefix itself (none is added on inclusion), so a route's
``path`` is the whole template the request metrics label it with.
"""

from fastapi import APIRouter, Depends

from tally.dashboard.api import chats, groups, stats
from tally.dashboard.auth import authorize

router = APIRouter(dependencies=[Depends(authorize)])
router.include_router(chats.router)
router.include_router(stats.router)
router.include_router(groups.router)
