{{- define "ovnk.image" -}}
{{ .Values.global.image.repository }}:{{ .Values.global.image.tag }}
{{- end -}}
{{- /* Feature switches as the v1.3.0 chart renders them (charts/ovnkube-control-plane, charts/ovnkube-node):
container env vars, which dist/images/ovnkube.sh turns into ovnkube flags. Same names and value rules. */ -}}
{{- define "ovnk.env" -}}
- name: K8S_APISERVER
  valueFrom:
    configMapKeyRef:
      name: ovn-config
      key: k8s_apiserver
- name: OVN_NET_CIDR
  valueFrom:
    configMapKeyRef:
      name: ovn-config
      key: net_cidr
- name: OVN_SVC_CIDR
  valueFrom:
    configMapKeyRef:
      name: ovn-config
      key: svc_cidr
- name: OVN_ADMIN_NETWORK_POLICY_ENABLE
  value: {{ default "" .Values.global.enableAdminNetworkPolicy | quote }}
- name: OVN_MULTI_NETWORK_ENABLE
  value: {{ hasKey .Values.global "enableMultiNetwork" | ternary .Values.global.enableMultiNetwork false | quote }}
- name: OVN_NETWORK_SEGMENTATION_ENABLE
  value: {{ default "" .Values.global.enableNetworkSegmentation | quote }}
- name: OVN_ENABLE_PERSISTENT_IPS
  value: {{ hasKey .Values.global "enablePersistentIPs" | ternary .Values.global.enablePersistentIPs false | quote }}
{{- end -}}
