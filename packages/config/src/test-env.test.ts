import { describe, expect, it } from 'vitest';
import { loadConfigSubset, ConfigError } from './config';
import { loadTestEnv } from './test-env';

describe('loadTestEnv', () => {
  it('CI is true only for "true" or "1"; CHROMIUM_PATH defaults to Debian\'s chromium; blank Elasticsearch values are unset', () => {
    expect(loadTestEnv({})).toEqual({ CI: false, CHROMIUM_PATH: '/usr/bin/chromium', ELASTICSEARCH_URL: undefined, ELASTICSEARCH_HOST: undefined, ELASTICSEARCH_API_KEY: undefined });
    expect(loadTestEnv({ CI: 'true' }).CI).toBe(true);
    expect(loadTestEnv({ CI: '1' }).CI).toBe(true);
    expect(loadTestEnv({ CI: 'false' }).CI).toBe(false);
    expect(loadTestEnv({ CHROMIUM_PATH: '/opt/chrome' }).CHROMIUM_PATH).toBe('/opt/chrome');
    expect(loadTestEnv({ ELASTICSEARCH_URL: ' ', ELASTICSEARCH_HOST: 'http://es:9200' })).toMatchObject({ ELASTICSEARCH_URL: undefined, ELASTICSEARCH_HOST: 'http://es:9200' });
  });
});

describe('loadConfigSubset', () => {
  it('parses only the named variables, with the schema\'s defaults and rules', () => {
    expect(loadConfigSubset(['SIM_PORT'], {})).toEqual({ SIM_PORT: 4010 });
    expect(loadConfigSubset(['SIM_PORT'], { SIM_PORT: '0', REDIS_URL: 'not a url' })).toEqual({ SIM_PORT: 0 }); // others are not its business
    expect(() => loadConfigSubset(['SIM_PORT'], { SIM_PORT: '0x10' })).toThrow(ConfigError);
    expect(() => loadConfigSubset(['SIM_PORT'], { SIM_PORT: '70000' })).toThrow('SIM_PORT: must be between 0 and 65535 (got "70000")');
  });
});
