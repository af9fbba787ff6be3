import { ProjectFileError } from '../errors/project-file-error.js';
import { childElements, childText, parseXmlDocument, type XmlDocument, type XmlElementNode } from './xml-document.js';
import { applyTextEdits, childIndentation, insertChildEdit, removeElementEdit, renderElement } from './xml-edits.js';

export interface ProjectXmlApp {
  readonly element: XmlElementNode;
  readonly name: string;
}

/** project.xml, parsed: the apps and platforms `bin/xadd` puts in the database. */
export interface ProjectXml {
  readonly document: XmlDocument;
  readonly apps: readonly ProjectXmlApp[];
  readonly platforms: readonly string[];
}

/** Reads project.xml; not XML, or a root other than `<boinc>`, is a `ProjectFileError`. */
export function readProjectXml(text: string, label = 'project.xml'): ProjectXml {
  const document = parseXmlDocument(text, label);
  if (document.root.name !== 'boinc') throw new ProjectFileError(`${label}: the root element is <${document.root.name}>, not <boinc>. Nothing was changed`);
  const apps = childElements(document.root, 'app').map((element) => {
    const name = childText(element, 'name');
    if (name === undefined || name === '') throw new ProjectFileError(`${label} line ${element.line}: an <app> without a <name>. Nothing was changed`);
    return { element, name };
  });
  const platforms = childElements(document.root, 'platform')
    .map((element) => childText(element, 'name'))
    .filter((name): name is string => name !== undefined && name !== '');
  return { document, apps, platforms };
}

/** The `<app>` elements named `app`; two of them is a `ProjectFileError`. */
export function findProjectApp(projectXml: ProjectXml, app: string, label = 'project.xml'): ProjectXmlApp | undefined {
  const found = projectXml.apps.filter((candidate) => candidate.name === app);
  if (found.length > 1) {
    throw new ProjectFileError(`${label} has ${found.length} apps named ${app} (lines ${found.map((entry) => entry.element.line).join(', ')}); BOINC needs one. Nothing was changed`);
  }
  return found[0];
}

/** project.xml with an `<app>` for `app` after the last element, laid out like the file. */
export function addProjectApp(projectXml: ProjectXml, app: string, userFriendlyName: string): string {
  const { document } = projectXml;
  const { child, unit } = childIndentation(document, document.root);
  const element = renderElement(
    'app',
    [
      ['name', app],
      ['user_friendly_name', userFriendlyName],
    ],
    child,
    unit,
    document.newline,
  );
  return applyTextEdits(document.text, [insertChildEdit(document, document.root, element, child)]);
}

/** project.xml without the `<app>` named `app` (and the line it was on). */
export function removeProjectApp(projectXml: ProjectXml, app: string): string {
  const entry = findProjectApp(projectXml, app);
  if (entry === undefined) return projectXml.document.text;
  return applyTextEdits(projectXml.document.text, [removeElementEdit(projectXml.document as XmlDocument, projectXml.document.root, entry.element)]);
}
