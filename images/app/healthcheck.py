# SPDX-License-Identifier: GPL-3.0-or-later
"""Container HEALTHCHECK: exit 0 iff /api/health answers 200 with status healthy|degraded."""

import json
import os
import sys
import urllib.error
import urllib.request


def main():
    port = os.environ.get("PORT", "") or "3000"
    url = "http://127.0.0.1:%s/api/health" % port
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as res:
            code = res.status
            status = json.loads(res.read(65536).decode("utf-8")).get("status")
    except urllib.error.HTTPError as exc:
        print("unhealthy: HTTP %d" % exc.code)
        return 1
    except Exception as exc:  # noqa: BLE001 - connection refused, timeout, bad JSON ...
        print("unhealthy: %s" % type(exc).__name__)
        return 1
    if code == 200 and status in ("healthy", "degraded"):
        print(status)
        return 0
    print("unhealthy: HTTP %d status %r" % (code, status))
    return 1


if __name__ == "__main__":
    sys.exit(main())
