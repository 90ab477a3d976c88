import { ConfigError } from '@app/config';
import { CONNECTOR_ODOO, connectorPort, isListeningMessage, servicePorts } from '@app/runtime';
import { checkRedisVariables, childLogFormat, localHostFor, readyMessage, serviceUrl, unplannedExitMessage } from '../../scripts/launcher';
import { REPEATED_SIGNAL_WINDOW_MS, stopSignalListener } from '../../scripts/stop-signal-listener';

describe('servicePorts (npm start, the demo)', () => {
  it('given nothing, then 3000-3003', () => {
    expect(servicePorts({})).toEqual({ intake: 3000, orchestrator: 3001, executor: 3002, evaluator: 3003 });
  });

  it('given PORT=8080, then the intake gets it and the others the next three, never the same port', () => {
    expect(servicePorts({ PORT: '8080' })).toEqual({ intake: 8080, orchestrator: 8081, executor: 8082, evaluator: 8083 });
  });

  it("given a service's own variable, then it wins over PORT+n", () => {
    expect(servicePorts({ PORT: '8080', EXECUTOR_PORT: '9100', EVALUATOR_PORT: ' 9200 ' })).toEqual({
      intake: 8080,
      orchestrator: 8081,
      executor: 9100,
      evaluator: 9200,
    });
  });

  it('given empty variables, then they count as unset', () => {
    expect(servicePorts({ PORT: '', ORCHESTRATOR_PORT: '' }).orchestrator).toBe(3001);
  });

  it('given blanks only, then they are refused as a service refuses them, not taken as unset', () => {
    expect(() => servicePorts({ PORT: ' ' })).toThrow(new ConfigError(['PORT=" ": set but blank; unset it for the default or give a value']));
    expect(() => connectorPort({ CONNECTOR_PORT: '\t' }, servicePorts({}))).toThrow(/CONNECTOR_PORT="\\t": set but blank/);
  });

  it('given a bad value, then it names the variable', () => {
    expect(() => servicePorts({ PORT: 'http' })).toThrow(/PORT="http" is not a port from 1 to 65535/);
    expect(() => servicePorts({ EXECUTOR_PORT: '0' })).toThrow(/EXECUTOR_PORT="0"/);
    expect(() => servicePorts({ PORT: '65535' })).toThrow(/orchestrator would get port 65536 \(PORT\+1\); set ORCHESTRATOR_PORT/);
  });

  it('given a bad PORT, then it is a configuration error naming PORT once', () => {
    expect(() => servicePorts({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => servicePorts({ PORT: 'abc' })).toThrow(new ConfigError(['PORT="abc" is not a port from 1 to 65535']));
  });

  it('given two services on one port, then it refuses, naming what set each: a variable given, else PORT+n', () => {
    expect(() => servicePorts({ PORT: '8080', EVALUATOR_PORT: '8081' })).toThrow(
      new ConfigError(['orchestrator and evaluator would both get port 8081 (PORT+1, EVALUATOR_PORT)']),
    );
    expect(() => servicePorts({ PORT: '8080', ORCHESTRATOR_PORT: '9000', EVALUATOR_PORT: '9000' })).toThrow(
      new ConfigError(['orchestrator and evaluator would both get port 9000 (ORCHESTRATOR_PORT, EVALUATOR_PORT)']),
    );
  });
});

describe('connectorPort (npm start with ODOO_URL)', () => {
  const ports = servicePorts({});

  it('given nothing, then the port after the highest service port; given CONNECTOR_PORT, then that one', () => {
    expect(connectorPort({}, ports)).toBe(3004);
    expect(connectorPort({}, servicePorts({ PORT: '8080', EXECUTOR_PORT: '9100' }))).toBe(9101);
    expect(connectorPort({ CONNECTOR_PORT: ' 9300 ' }, ports)).toBe(9300);
    expect(connectorPort({ CONNECTOR_PORT: '' }, ports)).toBe(3004);
  });

  it("given no port, one past 65535, or a service's port, then a configuration error naming CONNECTOR_PORT", () => {
    expect(() => connectorPort({ CONNECTOR_PORT: 'abc' }, ports)).toThrow(new ConfigError(['CONNECTOR_PORT="abc" is not a port from 1 to 65535']));
    expect(() => connectorPort({}, servicePorts({ PORT: '65532' }))).toThrow(/connector-odoo would get port 65536 .*; set CONNECTOR_PORT/);
    // The executor's port came from PORT+2: EXECUTOR_PORT, which the clash used to name, was never set.
    expect(() => connectorPort({ CONNECTOR_PORT: '3002' }, ports)).toThrow(
      new ConfigError(['executor and connector-odoo would both get port 3002 (PORT+2, CONNECTOR_PORT)']),
    );
    expect(() => connectorPort({ EXECUTOR_PORT: '3002', CONNECTOR_PORT: '3002' }, ports)).toThrow(
      new ConfigError(['executor and connector-odoo would both get port 3002 (EXECUTOR_PORT, CONNECTOR_PORT)']),
    );
  });
});

describe('childLogFormat', () => {
  it('given a terminal, then pretty; given a pipe or file, then json', () => {
    expect(childLogFormat({}, true)).toBe('pretty');
    expect(childLogFormat({}, false)).toBe('json');
  });

  it('given LOG_FORMAT, then it wins', () => {
    expect(childLogFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(childLogFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it('given a LOG_FORMAT the services refuse, then a configuration error naming it, as theirs, instead of json', () => {
    expect(() => childLogFormat({ LOG_FORMAT: 'xml' }, false)).toThrow(
      new ConfigError(['LOG_FORMAT="xml": LOG_FORMAT must be one of the following values: json, pretty']),
    );
    expect(childLogFormat({ LOG_FORMAT: '' }, true)).toBe('pretty');
  });
});

describe('readyMessage', () => {
  const ports = servicePorts({ PORT: '8080' });
  const all = ['intake', 'orchestrator', 'executor', 'evaluator'] as const;

  it('given no API_KEYS, then it points to the local operator key file', () => {
    expect(readyMessage(ports, all, {}, '.data/api-key')).toBe(
      'Ready: API http://localhost:8080/api, docs http://localhost:8080/docs, console http://localhost:8080/console/; send Authorization: Bearer <key> with the operator key in .data/api-key',
    );
  });

  it('given API_KEYS, then it says to use one of them, never showing them', () => {
    const line = readyMessage(ports, all, { API_KEYS: 'ops:0123456789abcdef0123:operator' }, '.data/api-key');
    expect(line).toMatch(/with one of API_KEYS$/);
    expect(line).not.toMatch(/0123456789abcdef/);
  });

  it('given no intake, then it names the services and their ports', () => {
    expect(readyMessage(ports, ['executor'], {}, '.data/api-key')).toBe('Ready: executor on port 8082');
  });

  it('given LISTEN_HOST, then URLs on this machine name that address; unset or every interface, localhost', () => {
    expect(localHostFor(undefined, 'localhost')).toBe('localhost');
    expect(localHostFor('0.0.0.0', '127.0.0.1')).toBe('127.0.0.1');
    expect(localHostFor('::', 'localhost')).toBe('localhost');
    expect(localHostFor('127.0.0.2', 'localhost')).toBe('127.0.0.2');
    expect(localHostFor('::1', 'localhost')).toBe('[::1]');
    expect(readyMessage({ intake: 8080, orchestrator: 8081, executor: 8082, evaluator: 8083 }, ['intake'], { LISTEN_HOST: '::1' }, '.data/api-key')).toContain(
      'API http://[::1]:8080/api',
    );
  });
});

describe('serviceUrl (the launcher, the demo and the bench reaching their services)', () => {
  it('given LISTEN_HOST unset or every interface, then 127.0.0.1', () => {
    expect(serviceUrl(undefined, 3000)).toBe('http://127.0.0.1:3000');
    expect(serviceUrl('', 3000)).toBe('http://127.0.0.1:3000');
    expect(serviceUrl('0.0.0.0', 3000)).toBe('http://127.0.0.1:3000');
    expect(serviceUrl('::', 3000)).toBe('http://127.0.0.1:3000');
  });

  it('given LISTEN_HOST one address, then that address, an IPv6 one in brackets', () => {
    expect(serviceUrl('::1', 3000)).toBe('http://[::1]:3000');
    expect(serviceUrl(' 127.0.0.2 ', 3001)).toBe('http://127.0.0.2:3001');
    expect(serviceUrl('localhost', 3002)).toBe('http://localhost:3002');
  });
});

describe('stopSignalListener (Ctrl-C under npm start and npm run demo)', () => {
  /** The listener on a clock the test moves, and what it answered. */
  function listener() {
    const clock = { now: 0 };
    const answers: string[] = [];
    const onSignal = stopSignalListener(
      { first: (signal) => answers.push(`${signal} received`), again: (signal) => answers.push(`${signal} again`) },
      { now: () => clock.now },
    );
    return { clock, answers, onSignal };
  }

  it("given a signal, then its copies have passed only once its window has: before any signal, and after it, at once; a later one's likewise", async () => {
    jest.useFakeTimers();
    try {
      const clock = { now: 0 };
      const onSignal = stopSignalListener({ first: () => undefined, again: () => undefined }, { now: () => clock.now });
      await onSignal.copiesPassed();
      /** A signal `elapsed` ms ago: its copies have passed once the rest of its window has, not a millisecond before. */
      const waitsOutWindow = async (elapsed: number) => {
        onSignal('SIGINT');
        clock.now += elapsed;
        let passed = false;
        const waiting = onSignal.copiesPassed().then(() => (passed = true));
        await jest.advanceTimersByTimeAsync(REPEATED_SIGNAL_WINDOW_MS - elapsed - 1);
        expect(passed).toBe(false);
        await jest.advanceTimersByTimeAsync(1);
        await waiting;
        expect(passed).toBe(true);
      };
      // A process that had stopped this quickly ended at once, and npm's copy killed it as it ended.
      await waitsOutWindow(300);
      clock.now += REPEATED_SIGNAL_WINDOW_MS;
      await onSignal.copiesPassed();
      // Pressed again later: its copy is on the way too, and is waited for as the first one's was.
      await waitsOutWindow(500);
    } finally {
      jest.useRealTimers();
    }
  });

  it("given one Ctrl-C delivered twice (the terminal's to the process group, then npm's forwarded copy), then it counts once", () => {
    const { clock, answers, onSignal } = listener();
    onSignal('SIGINT');
    clock.now += 5;
    onSignal('SIGINT');

    expect(answers).toEqual(['SIGINT received']);
  });

  it("given npm's copy late on a loaded machine, still within the window, then it counts once too", () => {
    const { clock, answers, onSignal } = listener();
    onSignal('SIGTERM');
    clock.now += REPEATED_SIGNAL_WINDOW_MS - 1;
    onSignal('SIGTERM');

    expect(answers).toEqual(['SIGTERM received']);
  });

  it('given a second Ctrl-C a person presses later, each delivered twice, then it is answered once', () => {
    const { clock, answers, onSignal } = listener();
    onSignal('SIGINT');
    clock.now += 3;
    onSignal('SIGINT');
    clock.now += 2_000;
    onSignal('SIGINT');
    clock.now += 3;
    onSignal('SIGINT');

    expect(answers).toEqual(['SIGINT received', 'SIGINT again']);
  });

  it('given another signal right after the first (Ctrl-C, then a SIGTERM from elsewhere), then it is answered, not taken for a copy', () => {
    const { clock, answers, onSignal } = listener();
    onSignal('SIGINT');
    clock.now += 5;
    onSignal('SIGTERM');

    expect(answers).toEqual(['SIGINT received', 'SIGTERM again']);
  });
});

describe('unplannedExitMessage (a process that ended on its own, not restarted)', () => {
  it('given a configuration error (exit 78), then it says so and points above, not "unexpectedly"', () => {
    expect(unplannedExitMessage('one-process', 78, null, false)).toBe('one-process stopped: configuration error (exit 78), see above');
    expect(unplannedExitMessage('orchestrator', 78, null, true)).toBe('orchestrator stopped: configuration error (exit 78), see above; stopping the rest');
  });

  it('given a crash or a signal, then unexpectedly; "stopping the rest" only when other processes run', () => {
    expect(unplannedExitMessage('one-process', 1, null, false)).toBe('one-process exited unexpectedly (code 1)');
    expect(unplannedExitMessage('intake', null, 'SIGKILL', true)).toBe('intake exited unexpectedly (signal SIGKILL); stopping the rest');
  });
});

describe('checkRedisVariables (npm start, the demo)', () => {
  it("given a REDIS_URL that does not parse, then the services' configuration error, the URL without its password", () => {
    expect(() => checkRedisVariables({ REDIS_URL: 'notaurl' })).toThrow(new ConfigError(['REDIS_URL="notaurl": REDIS_URL must look like redis://host:port']));
    expect(() => checkRedisVariables({ REDIS_URL: ' http://:pw@127.0.0.1:6379 ' })).toThrow(
      new ConfigError(['REDIS_URL="http://***@127.0.0.1:6379": REDIS_URL must look like redis://host:port']),
    );
  });

  it('given a good, blank or unset REDIS_URL, then nothing to say', () => {
    for (const REDIS_URL of ['redis://:pw@10.0.0.5:6379/2', ' redis://127.0.0.1:6379 ', '', ' ', undefined]) {
      expect(() => checkRedisVariables({ REDIS_URL })).not.toThrow();
    }
  });
});

describe("isListeningMessage (a launched process' word that it listens)", () => {
  it("given one of the names the process speaks for, then it counts, the connector's as a service's", () => {
    expect(isListeningMessage({ type: 'listening', service: CONNECTOR_ODOO }, [CONNECTOR_ODOO])).toBe(true);
    expect(isListeningMessage({ type: 'listening', service: 'executor' }, ['intake', 'executor'])).toBe(true);
  });

  it("given another process' name, another type or no object, then it does not count", () => {
    expect(isListeningMessage({ type: 'listening', service: 'intake' }, [CONNECTOR_ODOO])).toBe(false);
    expect(isListeningMessage({ type: 'stopping', service: CONNECTOR_ODOO }, [CONNECTOR_ODOO])).toBe(false);
    expect(isListeningMessage(CONNECTOR_ODOO, [CONNECTOR_ODOO])).toBe(false);
    expect(isListeningMessage(null, [CONNECTOR_ODOO])).toBe(false);
  });
});
