import { ConfigError, setButBlank } from '@app/config';
import { SERVICE_NAMES, ServiceName } from '@app/messages';

/** Each service's own port variable; `PORT` is the intake's (the API's) when the services run together. */
export const PORT_VARIABLES: Record<ServiceName, string> = {
  intake: 'PORT',
  orchestrator: 'ORCHESTRATOR_PORT',
  executor: 'EXECUTOR_PORT',
  evaluator: 'EVALUATOR_PORT',
};
const DEFAULT_INTAKE_PORT = 3000;
/**
 * The Odoo connector's port variable under the launcher, which runs it beside the four services
 * when ODOO_URL is set: it hands the connector PORT, and this names what a person sets.
 */
export const CONNECTOR_PORT_VARIABLE = 'CONNECTOR_PORT';
/**
 * The Odoo connector's name, one for the launcher and the connector: the launcher's process of that
 * name counts as listening once it says so under this name (reportListening); also its consumer name.
 */
export const CONNECTOR_ODOO = 'connector-odoo';

/**
 * A port variable's value, spaces around it dropped; unset or empty: undefined; anything but
 * 1–65535 adds a problem, blanks only too, as loadEnvironment refuses a number variable of blanks.
 */
function readPort(env: NodeJS.ProcessEnv, name: string, problems: string[]): number | undefined {
  const value = env[name];
  if (!value) return undefined;
  const raw = value.trim();
  if (!raw) {
    problems.push(setButBlank(name, value));
    return undefined;
  }
  const port = Number(raw);
  if (/^\d+$/.test(raw) && port >= 1 && port <= 65535) return port;
  problems.push(`${name}=${JSON.stringify(raw)} is not a port from 1 to 65535`);
  return undefined;
}

/**
 * What set a service's port, for a message about it: its own variable when set (PORT for the
 * intake, set or default), else PORT+n, so the message names only what the person set.
 */
function portSource(env: NodeJS.ProcessEnv, name: ServiceName): string {
  const offset = SERVICE_NAMES.indexOf(name);
  return offset === 0 || env[PORT_VARIABLES[name]]?.trim() ? PORT_VARIABLES[name] : `PORT+${offset}`;
}

/**
 * The variable that set a process' port, for its "cannot listen" line: the launcher hands each
 * child PORT and names in PORT_VARIABLE the one a person sets (ORCHESTRATOR_PORT, CONNECTOR_PORT…).
 */
export function handedPortVariable(env: NodeJS.ProcessEnv): string {
  return env.PORT_VARIABLE?.trim() || 'PORT';
}

/**
 * The ports of the four services on one machine (the launcher's children, or one process): the
 * intake gets PORT (default 3000), each other service its own variable, else the next port after
 * the intake's in the order of SERVICE_NAMES (3001, 3002, 3003 by default). One PORT for all would
 * have them all bind the same port. A bad value is a ConfigError (exit 78, as any bad variable).
 */
export function servicePorts(env: NodeJS.ProcessEnv): Record<ServiceName, number> {
  const problems: string[] = [];
  const read = (name: string) => readPort(env, name, problems);
  const intake = read(PORT_VARIABLES.intake) ?? DEFAULT_INTAKE_PORT;
  const ports = {} as Record<ServiceName, number>;
  SERVICE_NAMES.forEach((name, offset) => {
    // The intake's is read above; reading PORT again would report a bad PORT twice.
    ports[name] = offset === 0 ? intake : (read(PORT_VARIABLES[name]) ?? intake + offset);
    if (ports[name] > 65535) problems.push(`${name} would get port ${ports[name]} (PORT+${offset}); set ${PORT_VARIABLES[name]}`);
  });
  for (const name of SERVICE_NAMES) {
    const clash = SERVICE_NAMES.find((other) => other !== name && ports[other] === ports[name]);
    if (clash && SERVICE_NAMES.indexOf(clash) > SERVICE_NAMES.indexOf(name)) {
      problems.push(`${name} and ${clash} would both get port ${ports[name]} (${portSource(env, name)}, ${portSource(env, clash)})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return ports;
}

/**
 * The Odoo connector's port beside the services (`ports`): CONNECTOR_PORT, else the port after the
 * highest service port (3004 by default). A bad value, or one a service has, is a ConfigError.
 */
export function connectorPort(env: NodeJS.ProcessEnv, ports: Record<ServiceName, number>): number {
  const problems: string[] = [];
  const highest = Math.max(...Object.values(ports));
  const port = readPort(env, CONNECTOR_PORT_VARIABLE, problems) ?? highest + 1;
  if (port > 65535) problems.push(`${CONNECTOR_ODOO} would get port ${port} (the highest service port + 1); set ${CONNECTOR_PORT_VARIABLE}`);
  const clash = SERVICE_NAMES.find((name) => ports[name] === port);
  if (clash) problems.push(`${clash} and ${CONNECTOR_ODOO} would both get port ${port} (${portSource(env, clash)}, ${CONNECTOR_PORT_VARIABLE})`);
  if (problems.length > 0) throw new ConfigError(problems);
  return port;
}
