// Service, Endpoints and Ingress validation, Kubernetes' wording.

import type { Endpoints, Service } from "../../../gen/navarch/api/v1/core.js";
import type { Ingress, IngressBackend } from "../../../gen/navarch/api/v1/networking.js";
import { type FieldError, type FieldPath, fieldErrors, path } from "../field_errors.js";
import { isIP, oneOf, validateLabels, validateObjectMeta, validatePort, validatePortNumOrName } from "./common.js";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isValidPortName } from "./names.js";
import { PROTOCOLS } from "./pod.js";

export const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, { namespaced: true, nameFn: isDNS1035Label });
  const p = path("spec");
  const s = svc.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  const type = s.type ?? "ClusterIP";
  errs.push(...oneOf(s.type, SERVICE_TYPES, p.child("type")));
  const headless = s.clusterIP === "None";
  const ports = s.ports ?? [];
  if (type === "ExternalName") {
    if (!s.externalName) errs.push(fieldErrors.required(p.child("externalName")));
    else for (const m of isDNS1123Subdomain(s.externalName.replace(/\.$/, ""))) errs.push(fieldErrors.invalid(p.child("externalName"), s.externalName, m));
    if (s.clusterIP && s.clusterIP !== "None") {
      errs.push(fieldErrors.forbidden(p.child("clusterIP"), "may not be set for ExternalName services"));
    }
  } else if (ports.length === 0 && !headless) {
    errs.push(fieldErrors.required(p.child("ports")));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const pp = p.child("ports").index(i);
    if (ports.length > 1 && !port.name) errs.push(fieldErrors.required(pp.child("name")));
    if (port.name) {
      for (const m of isDNS1123Label(port.name)) errs.push(fieldErrors.invalid(pp.child("name"), port.name, m));
      if (names.has(port.name)) errs.push(fieldErrors.duplicate(pp.child("name"), port.name));
      names.add(port.name);
    }
    errs.push(...validatePort(port.port, pp.child("port")));
    errs.push(...oneOf(port.protocol, PROTOCOLS, pp.child("protocol")));
    if (port.targetPort) errs.push(...validatePortNumOrName(port.targetPort, pp.child("targetPort")));
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (type !== "NodePort" && type !== "LoadBalancer") {
        errs.push(fieldErrors.forbidden(pp.child("nodePort"), `may not be used when \`type\` is '${type}'`));
      } else {
        errs.push(...validatePort(port.nodePort, pp.child("nodePort")));
      }
    }
    const key = `${port.port}/${port.protocol ?? "TCP"}`;
    if (seen.has(key)) errs.push(fieldErrors.duplicate(pp, { port: port.port, protocol: port.protocol ?? "TCP" }));
    seen.add(key);
  });
  errs.push(...validateLabels(s.selector, p.child("selector")));
  errs.push(...oneOf(s.sessionAffinity, ["ClientIP", "None"], p.child("sessionAffinity")));
  const timeout = s.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (timeout !== undefined && (timeout <= 0 || timeout > 86400)) {
    errs.push(fieldErrors.invalid(p.child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), timeout, "must be greater than 0 and less than 86400"));
  }
  if (s.sessionAffinity !== "ClientIP" && s.sessionAffinityConfig?.clientIP) {
    errs.push(fieldErrors.forbidden(p.child("sessionAffinityConfig"), "must not be set when session affinity is None"));
  }
  if (s.clusterIP && s.clusterIP !== "None" && !isIP(s.clusterIP)) {
    errs.push(fieldErrors.invalid(p.child("clusterIP"), s.clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  }
  (s.externalIPs ?? []).forEach((ip, i) => {
    if (!isIP(ip)) errs.push(fieldErrors.invalid(p.child("externalIPs").index(i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  });
  if (s.externalTrafficPolicy !== undefined) {
    if (type !== "NodePort" && type !== "LoadBalancer") {
      errs.push(fieldErrors.invalid(p.child("externalTrafficPolicy"), s.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    } else {
      errs.push(...oneOf(s.externalTrafficPolicy, ["Cluster", "Local"], p.child("externalTrafficPolicy")));
    }
  }
  errs.push(...oneOf(s.internalTrafficPolicy, ["Cluster", "Local"], p.child("internalTrafficPolicy")));
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, { namespaced: true });
  (ep.subsets ?? []).forEach((sub, i) => {
    const sp = path("subsets").index(i);
    for (const [list, name] of [[sub.addresses ?? [], "addresses"], [sub.notReadyAddresses ?? [], "notReadyAddresses"]] as const) {
      list.forEach((a, j) => {
        const ap = sp.child(name).index(j);
        if (!a.ip) errs.push(fieldErrors.required(ap.child("ip")));
        else if (!isIP(a.ip)) errs.push(fieldErrors.invalid(ap.child("ip"), a.ip, "must be a valid IP address"));
        if (a.hostname) for (const m of isDNS1123Label(a.hostname)) errs.push(fieldErrors.invalid(ap.child("hostname"), a.hostname, m));
        if (a.nodeName) for (const m of isDNS1123Subdomain(a.nodeName)) errs.push(fieldErrors.invalid(ap.child("nodeName"), a.nodeName, m));
      });
    }
    (sub.ports ?? []).forEach((port, j) => {
      const pp = sp.child("ports").index(j);
      if (port.name) for (const m of isDNS1123Label(port.name)) errs.push(fieldErrors.invalid(pp.child("name"), port.name, m));
      errs.push(...validatePort(port.port, pp.child("port")));
      errs.push(...oneOf(port.protocol, PROTOCOLS, pp.child("protocol")));
    });
  });
  return errs;
}

function validateBackend(b: IngressBackend | undefined, p: FieldPath): FieldError[] {
  if (!b) return [fieldErrors.required(p)];
  const errs: FieldError[] = [];
  if (b.service && b.resource) errs.push(fieldErrors.invalid(p, "", "cannot set both resource and service backends"));
  if (!b.service && !b.resource) errs.push(fieldErrors.invalid(p, "", "resource or service backend is required"));
  if (b.service) {
    const sp = p.child("service");
    if (!b.service.name) errs.push(fieldErrors.required(sp.child("name")));
    else for (const m of isDNS1035Label(b.service.name)) errs.push(fieldErrors.invalid(sp.child("name"), b.service.name, m));
    const port = b.service.port;
    const hasName = !!port?.name;
    const hasNumber = port?.number !== undefined && port.number !== 0;
    if (hasName && hasNumber) errs.push(fieldErrors.invalid(sp.child("port"), "", "cannot set both port name & port number"));
    else if (hasName) for (const m of isValidPortName(port!.name!)) errs.push(fieldErrors.invalid(sp.child("port", "name"), port!.name, m));
    else if (hasNumber) errs.push(...validatePort(port!.number, sp.child("port", "number")));
    else errs.push(fieldErrors.required(sp.child("port"), "port name or number is required"));
  }
  if (b.resource) {
    if (!b.resource.kind) errs.push(fieldErrors.required(p.child("resource", "kind")));
    if (!b.resource.name) errs.push(fieldErrors.required(p.child("resource", "name")));
  }
  return errs;
}

function validateIngressHost(host: string, p: FieldPath): FieldError[] {
  const bare = host.startsWith("*.") ? host.slice(2) : host;
  if (isIP(host)) return [fieldErrors.invalid(p, host, "must be a DNS name, not an IP address")];
  const msgs = isDNS1123Subdomain(bare);
  return msgs.map((m) => fieldErrors.invalid(p, host, m));
}

export function validateIngress(ing: Ingress): FieldError[] {
  const errs = validateObjectMeta(ing.metadata, { namespaced: true });
  const p = path("spec");
  const s = ing.spec;
  if (!s) return [...errs, fieldErrors.required(p)];
  const rules = s.rules ?? [];
  if (!s.defaultBackend && rules.length === 0) {
    errs.push(fieldErrors.invalid(p, "", "either `defaultBackend` or `rules` must be specified"));
  }
  if (s.defaultBackend) errs.push(...validateBackend(s.defaultBackend, p.child("defaultBackend")));
  if (s.ingressClassName) {
    for (const m of isDNS1123Subdomain(s.ingressClassName)) errs.push(fieldErrors.invalid(p.child("ingressClassName"), s.ingressClassName, m));
  }
  (s.tls ?? []).forEach((t, i) => {
    (t.hosts ?? []).forEach((h, j) => errs.push(...validateIngressHost(h, p.child("tls").index(i).child("hosts").index(j))));
  });
  rules.forEach((r, i) => {
    const rp = p.child("rules").index(i);
    if (r.host) errs.push(...validateIngressHost(r.host, rp.child("host")));
    if (!r.http) return;
    const paths = r.http.paths ?? [];
    if (paths.length === 0) errs.push(fieldErrors.required(rp.child("http", "paths")));
    paths.forEach((hp, j) => {
      const pp = rp.child("http", "paths").index(j);
      if (!hp.pathType) errs.push(fieldErrors.required(pp.child("pathType"), "pathType must be specified"));
      else errs.push(...oneOf(hp.pathType, ["Exact", "ImplementationSpecific", "Prefix"], pp.child("pathType")));
      if ((hp.pathType === "Exact" || hp.pathType === "Prefix") && !(hp.path ?? "").startsWith("/")) {
        errs.push(fieldErrors.invalid(pp.child("path"), hp.path ?? "", "must be an absolute path"));
      }
      errs.push(...validateBackend(hp.backend, pp.child("backend")));
    });
  });
  return errs;
}
