; Inno Setup script for FairDesk on Windows. Build on Windows, after `make bundle` (or
; `pyinstaller build\fairdesk.spec`) has produced dist\FairDesk\:
;     iscc /DAppVersion=0.1.0 installer\fairdesk.iss
; (`python -c "import fairdesk; print(fairdesk.__version__)"` prints the version.)
; Per-user install: no administrator rights needed.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6C6F7E2A-5B0B-4C55-9C2F-FA1D0E5C0A11}
AppName=FairDesk
AppVersion={#AppVersion}
AppPublisher=FairDesk
VersionInfoVersion={#AppVersion}
VersionInfoProductName=FairDesk
VersionInfoDescription=FairDesk setup
DefaultDirName={userpf}\FairDesk
DefaultGroupName=FairDesk
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\dist
OutputBaseFilename=FairDesk-{#AppVersion}-setup
SetupIconFile=..\resources\icons\fairdesk.ico
UninstallDisplayIcon={app}\FairDesk.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
DisableProgramGroupPage=yes

[Files]
Source: "..\dist\FairDesk\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{userprograms}\FairDesk"; Filename: "{app}\FairDesk.exe"
Name: "{userprograms}\Uninstall FairDesk"; Filename: "{uninstallexe}"

[Registry]
; .fairdesk projects open in FairDesk (per user: HKCU, no administrator rights)
Root: HKCU; Subkey: "Software\Classes\.fairdesk"; ValueType: string; ValueName: ""; ValueData: "FairDesk.Project"; Flags: uninsdeletevalue uninsdeletekeyifempty
Root: HKCU; Subkey: "Software\Classes\FairDesk.Project"; ValueType: string; ValueName: ""; ValueData: "FairDesk project"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\FairDesk.Project\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\FairDesk.exe,0"
Root: HKCU; Subkey: "Software\Classes\FairDesk.Project\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\FairDesk.exe"" ""%1"""

[Run]
Filename: "{app}\FairDesk.exe"; Description: "Start FairDesk"; Flags: nowait postinstall skipifsilent
