"""The processes of ``tally loadtest``: ``tally up``'s stack with replicas of nl2sql, executor
and ingest, one gateway (or several in webhook mode), extra environment, and each child's
output in a log file under the run's home."""

import asyncio
import secrets
import subprocess
import sys
from dataclasses import dataclass, field

from tally.cli.embedded import free_port
from tally.cli.up import Child, Stack, wait_ready


@dataclass
class LoadStack(Stack):
    """``tally up``'s stack with replicas, extra environment and each child's log in a file."""

    extra_env: dict[str, str] = field(default_factory=dict)
    webhooks: dict[int, str] = field(default_factory=dict)
    """Webhook mode: each gateway's metrics port -> its webhook endpoint (``http://...``)."""
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def environment(self, child: Child) -> dict[str, str]:
        own = self._webhook_env(child) if child.port in self.webhooks else {}
        return {**super().environment(child), **self.extra_env, **own}

    def _webhook_env(self, child: Child) -> dict[str, str]:
        port = self.webhooks[child.port].split(":")[2].split("/")[0]
        return {
            "WEBHOOK_URL": "https://tally.example.org/telegram/webhook",
            "WEBHOOK_SECRET": self.webhook_secret,
            "WEBHOOK_PORT": port,
            "GATEWAY_INSTANCE": f"gateway-{child.port}",
        }

    async def spawn(self, child: Child) -> None:
        log = self.settings.tally_home / f"{child.name}-{child.port}.log"
        with log.open("ab") as output:
            child.process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", f"tally.{child.name}"),
                env=self.environment(child),
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    async def start_replicas(
        self, replicas: int, *, gateways: int = 1, webhook: bool = False
    ) -> None:
        """Ingest, nl2sql and executor ``replicas`` times each, and ``gateways`` gateways
        (polling; with ``webhook``, each serving its own webhook port, listed in
        :attr:`webhooks`); return once all are ready."""
        names = [*(["ingest", "nl2sql", "executor"] * replicas), *(["gateway"] * gateways)]
        for name in names:
            child = Child(name, free_port())
            if name == "gateway" and webhook:
                self.webhooks[child.port] = f"http://127.0.0.1:{free_port()}/telegram/webhook"
            await self.spawn(child)
            self.children.append(child)
        await asyncio.gather(*(wait_ready(child) for child in self.children))

    async def stop_services(self) -> None:
        """:meth:`Stack.stop_services`, and forget the webhooks."""
        await super().stop_services()
        self.webhooks.clear()

    def pids(self) -> dict[str, int]:
        """Label (``executor#2``) -> pid of every child."""
        seen: dict[str, int] = {}
        labels = {}
        for child in self.children:
            if child.process:
                seen[child.name] = seen.get(child.name, 0) + 1
                labels[f"{child.name}#{seen[child.name]}"] = child.process.pid
        return labels
