import { readFileSync } from 'node:fs';
import { ProjectFileError } from '../errors/project-file-error.js';
import { describe, expect, it } from 'vitest';
import { daemonsForApp, readConfigXml, reconcileTsmwDaemons, tsmwDaemonSpecs } from './config-xml.js';

const fixture = readFileSync(new URL('../../test/fixtures/project/config.xml', import.meta.url), 'utf8');

/** `before` with `inserted` right after the last `</daemon>`: what an insertion may change, nothing more. */
function withInsertion(before: string, inserted: string): string {
  const at = before.lastIndexOf('</daemon>') + '</daemon>'.length;
  return before.slice(0, at) + inserted + before.slice(at);
}

describe('config.xml', () => {
  it('reads the fixture: three daemons, the host, none for an app', () => {
    const config = readConfigXml(fixture);
    expect(config.daemons.map((daemon) => daemon.program)).toEqual(['feeder', 'transitioner', 'file_deleter']);
    expect(config.daemons[0]!.cmd).toBe('feeder -d 3');
    expect(config.host).toBe('vm');
    expect(config.config['upload_dir']).toBe('/home/boincadm/projects/test/upload');
    expect(daemonsForApp(config, 'pi')).toEqual([]);
  });

  it('adds the validator and the assimilator after the last daemon, indented like it, and nothing else', () => {
    const after = reconcileTsmwDaemons(readConfigXml(fixture), 'pi', tsmwDaemonSpecs('pi', 1));
    expect(after).toBe(
      withInsertion(fixture, [
        '',
        '        <daemon>',
        '            <cmd>sample_trivial_validator -d 3 --app pi</cmd>',
        '            <output>tsmw_pi_validator.log</output>',
        '            <pid_file>tsmw_pi_validator.pid</pid_file>',
        '        </daemon>',
        '        <daemon>',
        '            <cmd>script_assimilator -d 3 --app pi --script tsmw_assimilator</cmd>',
        '            <output>tsmw_pi_assimilator.log</output>',
        '            <pid_file>tsmw_pi_assimilator.pid</pid_file>',
        '        </daemon>',
      ].join('\n')),
    );
    const reread = readConfigXml(after);
    expect(daemonsForApp(reread, 'pi').map((daemon) => [daemon.role, daemon.tsmwApp])).toEqual([
      ['validator', 'pi'],
      ['assimilator', 'pi'],
    ]);
    // Again: nothing to do.
    expect(reconcileTsmwDaemons(reread, 'pi', tsmwDaemonSpecs('pi', 1))).toBe(after);
    // Removing tsmw's daemons gives the original bytes back.
    expect(reconcileTsmwDaemons(reread, 'pi', [])).toBe(fixture);
  });

  it('uses script_validator with tsmw programs for a quorum above 1, replacing the validator in place', () => {
    const once = reconcileTsmwDaemons(readConfigXml(fixture), 'pi', tsmwDaemonSpecs('pi', 1));
    const twice = reconcileTsmwDaemons(readConfigXml(once), 'pi', tsmwDaemonSpecs('pi', 2));
    expect(twice).toContain('<cmd>script_validator -d 3 --app pi --init_script tsmw_validate --compare_script tsmw_compare</cmd>');
    expect(twice).not.toContain('sample_trivial_validator');
    expect(twice.length - once.length).toBe('script_validator -d 3 --app pi --init_script tsmw_validate --compare_script tsmw_compare'.length - 'sample_trivial_validator -d 3 --app pi'.length);
    expect(reconcileTsmwDaemons(readConfigXml(twice), 'pi', [])).toBe(fixture);
  });

  it('keeps two apps apart, and removes one without touching the other', () => {
    const one = reconcileTsmwDaemons(readConfigXml(fixture), 'pi', tsmwDaemonSpecs('pi', 1));
    const two = reconcileTsmwDaemons(readConfigXml(one), 'primes', tsmwDaemonSpecs('primes', 2));
    expect(daemonsForApp(readConfigXml(two), 'pi')).toHaveLength(2);
    expect(daemonsForApp(readConfigXml(two), 'primes')).toHaveLength(2);
    const withoutPi = reconcileTsmwDaemons(readConfigXml(two), 'pi', []);
    expect(daemonsForApp(readConfigXml(withoutPi), 'pi')).toHaveLength(0);
    expect(reconcileTsmwDaemons(readConfigXml(withoutPi), 'primes', [])).toBe(fixture);
  });

  it('keeps comments, tabs, CRLF line ends and attribute quoting as they are', () => {
    const odd = "<?xml version='1.0'?>\r\n<boinc>\r\n\t<!-- keep me -->\r\n\t<config x='1'><host>h</host></config>\r\n\t<daemons>\r\n\t\t<daemon><cmd>feeder -d 3</cmd></daemon>\r\n\t</daemons>\r\n</boinc>\r\n";
    const after = reconcileTsmwDaemons(readConfigXml(odd), 'pi', tsmwDaemonSpecs('pi', 1));
    expect(after).toBe(
      withInsertion(odd, '\r\n\t\t<daemon>\r\n\t\t\t<cmd>sample_trivial_validator -d 3 --app pi</cmd>\r\n\t\t\t<output>tsmw_pi_validator.log</output>\r\n\t\t\t<pid_file>tsmw_pi_validator.pid</pid_file>\r\n\t\t</daemon>' +
        '\r\n\t\t<daemon>\r\n\t\t\t<cmd>script_assimilator -d 3 --app pi --script tsmw_assimilator</cmd>\r\n\t\t\t<output>tsmw_pi_assimilator.log</output>\r\n\t\t\t<pid_file>tsmw_pi_assimilator.pid</pid_file>\r\n\t\t</daemon>'),
    );
    expect(reconcileTsmwDaemons(readConfigXml(after), 'pi', [])).toBe(odd);
  });

  it('fills an empty <daemons></daemons> and empties it again', () => {
    const empty = '<boinc>\n  <config><host>h</host></config>\n  <daemons></daemons>\n</boinc>\n';
    const after = reconcileTsmwDaemons(readConfigXml(empty), 'pi', tsmwDaemonSpecs('pi', 1));
    expect(after).toContain('  <daemons>\n    <daemon>\n      <cmd>sample_trivial_validator -d 3 --app pi</cmd>');
    expect(after).toContain('    </daemon>\n  </daemons>\n</boinc>\n');
    expect(readConfigXml(after).daemons).toHaveLength(2);
  });

  it('refuses a file that is not XML, has no <daemons> or two, or already runs a foreign daemon for the app', () => {
    expect(() => readConfigXml('<boinc><daemons></boinc>')).toThrow(ProjectFileError);
    expect(() => readConfigXml('not xml at all')).toThrow(/not well-formed XML/);
    expect(() => readConfigXml('<boinc><config/></boinc>')).toThrow(/no <daemons>/);
    expect(() => readConfigXml('<boinc><daemons/><daemons/></boinc>')).toThrow(/2 <daemons>/);
    expect(() => readConfigXml('<project><daemons/></project>')).toThrow(/not <boinc>/);
    expect(() => readConfigXml('<boinc><daemons><daemon><output>x</output></daemon></daemons></boinc>')).toThrow(/without a <cmd>/);
    const foreign = fixture.replace('</daemons>', '    <daemon>\n            <cmd>sample_bitwise_validator -d 3 --app pi</cmd>\n        </daemon>\n    </daemons>');
    expect(() => reconcileTsmwDaemons(readConfigXml(foreign), 'pi', tsmwDaemonSpecs('pi', 1))).toThrow(/line 117 already runs a validator for app pi that tsmw did not add/);
    // Removing never needs them gone.
    expect(reconcileTsmwDaemons(readConfigXml(foreign), 'pi', [])).toBe(foreign);
  });
});
