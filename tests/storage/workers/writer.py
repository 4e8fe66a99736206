"""Appends to one session, printing what the store acknowledged (run by the tests).

usage: writer.py URL HOME WORKER COUNT GO_FILE
Waits for GO_FILE to exist, then COUNT writes, in turn: a message, a new artwork,
a version of #1. Prints ``m ID`` / ``a NUMBER VERSION_ID`` / ``v NUMBER`` after each.
"""

import os
import sys
import time
from pathlib import Path

from museforge.storage.models import Actor, FileIn, Scope
from museforge.storage.store import Store

url, home, worker, count, go = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \
    Path(sys.argv[5])
store = Store(url, home)
me = Actor(store.local_user())
chat = store.session(me, Scope.local("shared"))
while not go.exists():
    time.sleep(0.005)
for i in range(count):
    data = {"png": FileIn(f"{worker}-{i}-".encode() + os.urandom(64), "image/png")}
    if i % 3 == 0:
        msg = store.add_message(me, chat, "user", f"worker {worker} message {i}")
        print("m", msg.id, flush=True)
    elif i % 3 == 1:
        art, v1 = store.create_artwork(me, chat, "image", title=f"w{worker} {i}",
                                       prompt=f"worker {worker} item {i}",
                                       operation="generate_image", recipe={"i": i},
                                       files=data)
        print("a", art.number, v1.id, flush=True)
    else:
        v = store.add_version(me, chat, 1, operation="edit_image",
                              recipe={"worker": worker, "i": i}, files=data)
        print("v", v.number, flush=True)
store.close()
