"""The qasync event loop, completed with what asyncio's own loops do in run_forever.

qasync 0.28 never installs the async-generator hooks (sys.set_asyncgen_hooks), so an
async generator left suspended (httpx's line iterator after `[DONE]`, a stream the
user abandoned) is finalised by the garbage collector outside the loop: its cleanup
cannot await, the connection is not released cleanly and Python prints "async
generator ignored GeneratorExit". With the hooks, the loop closes such generators as
tasks, as asyncio.run would.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any


def install_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Let `loop` finalise abandoned async generators; returns a function that undoes it."""
    previous = sys.get_asyncgen_hooks()
    base: Any = loop
    sys.set_asyncgen_hooks(firstiter=base._asyncgen_firstiter_hook,
                           finalizer=base._asyncgen_finalizer_hook)

    def restore() -> None:
        sys.set_asyncgen_hooks(*previous)

    return restore
