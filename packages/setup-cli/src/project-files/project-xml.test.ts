import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addProjectApp, findProjectApp, readProjectXml, removeProjectApp } from './project-xml.js';

const fixture = readFileSync(new URL('../../test/fixtures/project/project.xml', import.meta.url), 'utf8');

describe('project.xml', () => {
  it('reads the platforms and finds no app', () => {
    const projectXml = readProjectXml(fixture);
    expect(projectXml.platforms).toContain('x86_64-pc-linux-gnu');
    expect(projectXml.platforms).toHaveLength(20);
    expect(findProjectApp(projectXml, 'pi')).toBeUndefined();
  });

  it('adds the app after the last platform, indented like it, and removes it to the original bytes', () => {
    const after = addProjectApp(readProjectXml(fixture), 'pi', 'pi (tsmw)');
    expect(after).toBe(
      fixture.replace(
        '    </platform>\n</boinc>',
        '    </platform>\n    <app>\n        <name>pi</name>\n        <user_friendly_name>pi (tsmw)</user_friendly_name>\n    </app>\n</boinc>',
      ),
    );
    expect(findProjectApp(readProjectXml(after), 'pi')?.element.line).toBe(82);
    expect(removeProjectApp(readProjectXml(after), 'pi')).toBe(fixture);
  });

  it('escapes what it writes', () => {
    const after = addProjectApp(readProjectXml('<boinc>\n</boinc>\n'), 'pi', 'a <b> & c');
    expect(after).toContain('<user_friendly_name>a &lt;b&gt; &amp; c</user_friendly_name>');
    expect(readProjectXml(after).apps.map((app) => app.name)).toEqual(['pi']);
  });

  it('refuses two apps of one name and a broken file', () => {
    const twice = '<boinc><app><name>pi</name></app><app><name>pi</name></app></boinc>';
    expect(() => findProjectApp(readProjectXml(twice), 'pi')).toThrow(/2 apps named pi/);
    expect(() => readProjectXml('<boinc><app><name>pi</app></boinc>')).toThrow(/not well-formed/);
    expect(() => readProjectXml('<boinc><app><user_friendly_name>x</user_friendly_name></app></boinc>')).toThrow(/without a <name>/);
  });
});
