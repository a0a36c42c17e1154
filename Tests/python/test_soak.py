"""`make soak` in short (issue 14 item 5): 60 s of churn against the debug msab, judged by the
same script and verdict as the long soak (Benchmarks/soak.py).

2 speakers and 20 listeners; 2 membership changes per second (listeners replaced, speakers
leaving their seats for new ones, side rooms opened and left) and 2 chats per second. Pass needs
0 errors of any kind, loss under 1 %, and RSS, open fds and open rooms at the end no more than
10 % (rooms: 4) above their value after the 15 s warm-up. Leaking one socket per listener cycle
(~60 cycles after warm-up against ~52 fds) or one room per side-room cycle (~12 against ~2–5 open;
seen: 5 → 17 with empty rooms never closing) breaks that bound several times over.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.msab, pytest.mark.media]

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Benchmarks", "soak.py")


def test_soak_60s(msab_bin: str, tmp_path) -> None:
    out = tmp_path / "soak.json"
    env = dict(os.environ, MSAB_BIN=msab_bin, SOAK_SECONDS="60", SOAK_SPEAKERS="2", SOAK_LISTENERS="20",
               SOAK_CHURN="2", SOAK_CHAT_RATE="2", SOAK_SEED="7")
    r = subprocess.run([sys.executable, SCRIPT, "--json", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "soak: PASS" in r.stdout, f"{r.stdout}\n{r.stderr}"
    result = json.loads(out.read_text())
    churn = result["report"]["churn"]
    # The verdict means something only if the room really churned.
    assert churn["joins"] >= 50 and churn["leaves"] >= 50, churn
    assert churn["seat_takes"] >= 3 and churn["seat_leaves"] >= 3, churn
    assert churn["side_rooms"] >= 3, churn
    assert churn["chats_echoed"] >= 60 and churn["chats_received"] > churn["chats_echoed"], churn
    assert result["report"]["packets_received"] > 20 * 50 * 30, result["report"]
    # One line per 10 s below 300 s.
    assert sum(1 for line in r.stdout.splitlines() if line.strip().split(" ")[0].isdigit()) >= 5, r.stdout
