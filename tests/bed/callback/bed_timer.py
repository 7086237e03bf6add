# A bed-only Ansible callback (not part of the rendered tree). It prints, after each run:
# - BED MODULES: how many module runs each host had (a loop's items each count, tasks that only run
#   on the control node -- set_fact, assert, debug, meta, includes -- do not, and an `until`
#   counts once however often it retried), which the bed holds a no-op run's budget to;
# - BED TIMER: the wall time of each task, summed over the run, the slowest first, so the bed can
#   say where a run spends its time (ansible-core ships no profile_tasks: that is in ansible.posix,
#   which the bed does not install).
import time

from ansible.plugins.callback import CallbackBase

# Actions that Ansible runs on the control node without a module on the host.
CONTROLLER_ONLY = {
    "set_fact", "assert", "debug", "meta", "fail", "include_tasks", "import_tasks",
    "include_role", "import_role", "include_vars", "add_host", "group_by", "pause",
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bed_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.spent = {}
        self.current = None
        self.since = 0.0
        self.modules = {}

    def _close(self):
        if self.current is not None:
            self.spent[self.current] = self.spent.get(self.current, 0.0) + time.monotonic() - self.since
        self.current = None

    def _count(self, result):
        if result._task.action.rsplit(".", 1)[-1] in CONTROLLER_ONLY:
            return
        if "results" in result._result:  # a loop's summary: its items were counted one by one
            return
        host = result._host.get_name()
        self.modules[host] = self.modules.get(host, 0) + 1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.current = task.get_name()
        self.since = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close()
        self._display.display(
            "BED MODULES: " + " ".join("%s=%d" % (h, n) for h, n in sorted(self.modules.items()))
        )
        total = sum(self.spent.values())
        self._display.display("BED TIMER: %d tasks, %.1f s in tasks" % (len(self.spent), total))
        for name, s in sorted(self.spent.items(), key=lambda kv: -kv[1])[:25]:
            self._display.display("BED TIMER %7.1f s  %s" % (s, name))
