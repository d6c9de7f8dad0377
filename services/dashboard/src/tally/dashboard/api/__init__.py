"""The JSON API under ``/api``, every route behind the admin token.

Each router carries its full path prefix itself (none is added on inclusion), so a route's
``path`` is the whole template the request metrics label it with.
"""

from fastapi import APIRouter, Depends

from tally.dashboard.api import chats, stats
from tally.dashboard.auth import require_admin

router = APIRouter(dependencies=[Depends(require_admin)])
router.include_router(chats.router)
router.include_router(stats.router)
