{{- define "ovnk.image" -}}
{{ .Values.global.image.repository }}:{{ .Values.global.image.tag }}
{{- end -}}
{{- define "ovnk.env" -}}
- name: K8S_APISERVER
  value: {{ .Values.k8sAPIServer | quote }}
- name: OVN_NET_CIDR
  value: {{ .Values.podNetwork | quote }}
- name: OVN_SVC_CIDR
  value: {{ .Values.serviceNetwork | quote }}
- name: OVN_ENABLE_MULTI_NET
  value: {{ .Values.global.enableMultiNetwork | default false | quote }}
- name: OVN_ENABLE_NETWORK_SEGMENTATION
  value: {{ .Values.global.enableNetworkSegmentation | default false | quote }}
- name: OVN_ENABLE_PERSISTENT_IPS
  value: {{ .Values.global.enablePersistentIPs | default false | quote }}
- name: OVN_ENABLE_ADMIN_NETWORK_POLICY
  value: {{ .Values.global.enableAdminNetworkPolicy | default false | quote }}
- name: OVN_MTU
  value: {{ .Values.mtu | quote }}
{{- end -}}
