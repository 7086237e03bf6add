# A bed-only Ansible callback (not part of the rendered tree): the wall time of each task, summed
# over the run, so the bed can say where a playbook run spends its time. ansible-core ships no
# profile_tasks (that is in ansible.posix, which the bed does not install).
import time

from ansible.plugins.callback import CallbackBase


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

    def _close(self):
        if self.current is not None:
            self.spent[self.current] = self.spent.get(self.current, 0.0) + time.monotonic() - self.since
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self.current = task.get_name()
        self.since = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._close()
        total = sum(self.spent.values())
        self._display.display("BED TIMER: %d tasks, %.1f s in tasks" % (len(self.spent), total))
        for name, s in sorted(self.spent.items(), key=lambda kv: -kv[1])[:25]:
            self._display.display("BED TIMER %7.1f s  %s" % (s, name))
