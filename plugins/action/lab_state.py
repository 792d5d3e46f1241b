# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Controller side of ovnk.udn_lab.lab_state: computes the calling role's inputs (every ``<role>_*`` and
``udn_lab_*`` variable, templated, and the role's code) when the task gives none, runs the module, and says in one
line whether the role is skipped or runs in full."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.ovnk.udn_lab.plugins.module_utils.state import StateError
from ansible_collections.ovnk.udn_lab.plugins.plugin_utils import role_inputs

MODULE = "ovnk.udn_lab.lab_state"
DEFAULT_LAB = "ovn-k-helm"  # the roles' default cluster (lab) name


class ActionModule(ActionBase):

    def calling_role(self, args):
        if args.get("role"):
            return args["role"]
        role = getattr(self._task, "_role", None)
        if role is None:
            raise AnsibleActionFail("lab_state: without inputs, the task must run in a role of this collection "
                                    "(or name it with role)")
        return role.get_name(include_role_fqcn=False)

    def role_inputs(self, args, task_vars):
        """The digest of the calling role's inputs (see plugin_utils/role_inputs.py)."""
        try:
            role = role_inputs.role_name(self.calling_role(args))
            names = role_inputs.variable_names(task_vars, role, args.get("ignore_inputs") or [])
            code = role_inputs.code_paths(role)
        except role_inputs.RoleInputsError as exc:
            raise AnsibleActionFail("lab_state: %s" % exc)
        lookup = self._shared_loader_obj.lookup_loader.get("ansible.builtin.vars", loader=self._loader,
                                                           templar=self._templar)
        values = lookup.run(names, variables=task_vars)  # templated, as the role sees them
        try:
            return role_inputs.digest(dict(zip(names, values)), code)
        except (StateError, role_inputs.RoleInputsError) as exc:
            raise AnsibleActionFail("lab_state: %s" % exc)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if not args.get("lab"):
            # the lab as the roles name it: udn_lab_cluster_name, else their default
            lab = task_vars.get("udn_lab_cluster_name") if task_vars else None
            args["lab"] = self._templar.template(lab) if lab is not None else DEFAULT_LAB
        computed = args.get("state", "query") in ("query", "present") and args.get("inputs") is None
        if computed:
            args["inputs"] = self.role_inputs(args, task_vars or {})
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        if computed:
            result["inputs"] = args["inputs"]
        if result.get("summary") and not result.get("failed"):
            Display().display("lab state: %s" % result["summary"])
        return result
