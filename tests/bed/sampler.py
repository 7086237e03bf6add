#!/usr/bin/env python3
"""The bed's secret sampler (issue 23): no secret on a command line or in an environment.

    sampler.py SECRETS HITS

The bed's hosts are network, mount and UTS namespaces of this machine: they share its process
table, so one sampler sees every process of every host, of ansible-playbook on the control node
and of the fake Linkis. Every ~30 ms (plus the scan itself) it reads /proc/*/cmdline and /proc/*/environ and looks for
each line of SECRETS (the vault values the bed gives); a hit appends "pid comm where secret#N" to
HITS (never the secret). On SIGTERM it writes "scans N processes M" to HITS + ".count".
"""
import os
import signal
import sys
import time

secrets_file, hits_file = sys.argv[1], sys.argv[2]
with open(secrets_file, "rb") as f:
    SECRETS = [s for s in f.read().split(b"\n") if s]
scans = seen = 0
reported = set()


def stop(*_):
    with open(hits_file + ".count", "w") as f:
        f.write("scans %d processes %d\n" % (scans, seen))
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
me = str(os.getpid())
while True:
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        seen += 1
        for where in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (pid, where), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for i, s in enumerate(SECRETS):
                if s in data and (pid, where, i) not in reported:
                    reported.add((pid, where, i))
                    try:
                        with open("/proc/%s/comm" % pid) as f:
                            comm = f.read().strip()
                    except OSError:
                        comm = "?"
                    with open(hits_file, "a") as f:
                        f.write("%s %s %s secret#%d at %s\n" % (pid, comm, where, i, time.strftime("%H:%M:%S")))
    scans += 1
    time.sleep(0.03)
