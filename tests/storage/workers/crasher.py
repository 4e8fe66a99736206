"""Adds versions with ~200 KB files until killed (run by the crash test).

usage: crasher.py URL HOME
Prints ``ready`` once the store is open, then ``NUMBER VERSION`` after each version the
store acknowledged. Every fifth write starts a new artwork; every version also carries
a small file shared with other versions (the reuse path of the asset store).
"""

import os
import sys
from pathlib import Path

from museforge.storage.models import Actor, FileIn, Scope
from museforge.storage.store import Store

store = Store(sys.argv[1], Path(sys.argv[2]))
me = Actor(store.local_user())
chat = store.session(me, Scope.local("crash"))
print("ready", flush=True)
shared = FileIn(b"MThd shared midi " * 64, "audio/midi")
i = 0
while True:
    files = {"png": FileIn(os.urandom(200_000), "image/png"), "mid": shared}
    arts = store.list_artworks(me, chat)
    if i % 5 == 0 or not arts:
        art, v = store.create_artwork(me, chat, "image", title=f"crash {i}",
                                      operation="generate_image", recipe={"i": i},
                                      files=files)
    else:
        v = store.add_version(me, chat, arts[-1].number, operation="edit_image",
                              recipe={"i": i}, files=files)
    print(v.artwork_number, v.number, flush=True)
    i += 1
