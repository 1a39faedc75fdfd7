"""What a search-attribute upsert costs Temporal's dev server, against the least workflow there is.

A one-off probe behind a figure in docs/performance.md ("What Temporal costs before our code
runs"), not part of `ticketing bench` or of the tests. It runs workflows that do nothing but
upsert a keyword search attribute 0, 4 or 8 times in their one workflow task, 600 of each at 32
in flight, twice over, and prints the dev server's CPU (from /proc) per workflow for each.

    pip install temporalio
    temporal server start-dev --ip 127.0.0.1 --headless --port 7299 \
      --db-filename /tmp/probe.db --sqlite-pragma journal_mode=wal \
      --sqlite-pragma synchronous=normal --log-level warn \
      --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
      --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
      --search-attribute ProbeStatus=Keyword &
    python3 bench/probes/temporal_upserts.py "$(pgrep -f 'port 7299')" 600

The dev server is started with the flags `ticketing dev` gives it (WAL, one partition per task
queue). The Python SDK only drives it: what is measured is the server's CPU, not the worker's.
"""

import asyncio
import os
import sys
import time
import uuid

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.worker import Worker

STATUS = SearchAttributeKey.for_keyword("ProbeStatus")
ADDRESS = "127.0.0.1:7299"
QUEUE = "probe-upserts"


@workflow.defn
class Upserts:
    @workflow.run
    async def run(self, n: int) -> int:
        for i in range(n):
            workflow.upsert_search_attributes([STATUS.value_set(f"s{i}")])
        return n


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_many(client: Client, upserts: int, count: int, in_flight: int) -> None:
    slots = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with slots:
            await client.execute_workflow(
                Upserts.run, upserts, id=str(uuid.uuid4()), task_queue=QUEUE
            )

    await asyncio.gather(*(one() for _ in range(count)))


async def main() -> None:
    server_pid, count = int(sys.argv[1]), int(sys.argv[2])
    client = await Client.connect(ADDRESS)
    async with Worker(client, task_queue=QUEUE, workflows=[Upserts]):
        await run_many(client, 0, 50, 16)  # warm up
        for _ in range(2):
            for upserts in (0, 4, 8):
                cpu, started = cpu_seconds(server_pid), time.time()
                await run_many(client, upserts, count, 32)
                cpu, took = cpu_seconds(server_pid) - cpu, time.time() - started
                print(
                    f"{upserts} upserts: Temporal {1000 * cpu / count:.2f} ms of CPU "
                    f"per workflow, {count / took:.1f} workflows/s",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
