"""The Python side of scripts/bench-python-peer.sh: the PyPI package 3cx-xapi-python-sdk (import
name `threecx`) against a running PBX (the sandbox), doing what tests/src/bin/bench_peer.rs does
through the threecx Rust SDK, and nothing more:

  (i)  every user, in $top/$skip pages of PAGE_SIZE (a page shorter than PAGE_SIZE ends it),
  (ii) GETS sequential Users({Id}), the ids cycling over the listed ones,

then prints the counts.

    python scripts/bench_python_sdk.py URL CLIENT_ID SECRET [PAGE_SIZE] [GETS]   (100, 1000)

The SDK's own `client.users.iterate(query)` only follows `@odata.nextLink` (services/base.py
`_paginate`); it never advances $skip, and 3CX (and the sandbox, for Users) sends no next link,
so with `.top(100)` it would stop after the first page. Pages are therefore requested with
`client.users.list(ODataQuery().top(n).skip(k))`, as the Rust pager does.
"""

import sys

from threecx import ODataQuery, ThreeCXClient


def main() -> None:
    args = sys.argv[1:]
    if not 3 <= len(args) <= 5:
        sys.exit("usage: bench_python_sdk.py URL CLIENT_ID SECRET [PAGE_SIZE] [GETS]")
    url, client_id, secret = args[:3]
    page_size = int(args[3]) if len(args) > 3 else 100
    gets = int(args[4]) if len(args) > 4 else 1000

    with ThreeCXClient(base_url=url, client_id=client_id, client_secret=secret) as client:
        # (i) Every user, one page in memory at a time.
        ids = []
        skip = 0
        while True:
            page = client.users.list(ODataQuery().top(page_size).skip(skip))
            ids.extend(user.id for user in page)
            if len(page) < page_size:
                break
            skip += len(page)
        if not ids:
            sys.exit("the PBX has no users")

        # (ii) Sequential gets by key.
        got = 0
        for i in range(gets):
            client.users.get(ids[i % len(ids)])
            got += 1

    print(f"listed {len(ids)} users, got {got} users by id")


if __name__ == "__main__":
    main()
