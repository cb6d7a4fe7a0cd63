# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed the remediation scenario's Redis: queue keys of every type with known
depths, session keys and cache keys. Settings from the environment
(REDIS_HOST, REDIS_PORT, REDISCLI_AUTH); prints nothing secret."""
import os

import redis

client = redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]),
                     password=os.environ["REDISCLI_AUTH"], db=0)
client.delete("queue:pending", "queue:failed", "queue:dlq", "bull:jobs:wait")
client.rpush("queue:pending", *["job-%d" % i for i in range(7)])          # list, 7
client.zadd("queue:failed", {"job-%d" % i: i for i in range(3)})          # sorted set, 3
for i in range(2):
    client.xadd("queue:dlq", {"job": str(i)})                             # stream, 2
client.sadd("bull:jobs:wait", *["id-%d" % i for i in range(4)])          # set, 4
for i in range(3):
    client.set("sess:molecule-%d" % i, "user-%d" % i)
for i in range(50):
    client.set("cache:page:%d" % i, "x" * 32)
