-- Moodle 4.5's tables that nosey reads, translated to SQLite for `nosey demo` and tests.
-- Columns, their order, NOT NULL and defaults follow tests/fixtures/moodle-4.5.6/pg/schema.sql:
-- bigint/integer/smallint become INTEGER, varchar/text TEXT, numeric NUMERIC. AUTOINCREMENT
-- keeps ids from ever being reused, like Moodle's sequences. `{prefix}` is replaced by the
-- (checked) table prefix; statements are separated by blank lines.

CREATE TABLE "{prefix}logstore_standard_log" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    eventname TEXT NOT NULL DEFAULT '',
    component TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL DEFAULT '',
    target TEXT NOT NULL DEFAULT '',
    objecttable TEXT,
    objectid INTEGER,
    crud TEXT NOT NULL DEFAULT '',
    edulevel INTEGER NOT NULL,
    contextid INTEGER NOT NULL,
    contextlevel INTEGER NOT NULL,
    contextinstanceid INTEGER NOT NULL,
    userid INTEGER NOT NULL,
    courseid INTEGER,
    relateduserid INTEGER,
    anonymous INTEGER NOT NULL DEFAULT 0,
    other TEXT,
    timecreated INTEGER NOT NULL,
    origin TEXT,
    ip TEXT,
    realuserid INTEGER
);

CREATE TABLE "{prefix}course" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category INTEGER NOT NULL DEFAULT 0,
    sortorder INTEGER NOT NULL DEFAULT 0,
    fullname TEXT NOT NULL DEFAULT '',
    shortname TEXT NOT NULL DEFAULT '',
    idnumber TEXT NOT NULL DEFAULT '',
    summary TEXT,
    summaryformat INTEGER NOT NULL DEFAULT 0,
    format TEXT NOT NULL DEFAULT 'topics',
    showgrades INTEGER NOT NULL DEFAULT 1,
    newsitems INTEGER NOT NULL DEFAULT 1,
    startdate INTEGER NOT NULL DEFAULT 0,
    enddate INTEGER NOT NULL DEFAULT 0,
    relativedatesmode INTEGER NOT NULL DEFAULT 0,
    marker INTEGER NOT NULL DEFAULT 0,
    maxbytes INTEGER NOT NULL DEFAULT 0,
    legacyfiles INTEGER NOT NULL DEFAULT 0,
    showreports INTEGER NOT NULL DEFAULT 0,
    visible INTEGER NOT NULL DEFAULT 1,
    visibleold INTEGER NOT NULL DEFAULT 1,
    downloadcontent INTEGER,
    groupmode INTEGER NOT NULL DEFAULT 0,
    groupmodeforce INTEGER NOT NULL DEFAULT 0,
    defaultgroupingid INTEGER NOT NULL DEFAULT 0,
    lang TEXT NOT NULL DEFAULT '',
    calendartype TEXT NOT NULL DEFAULT '',
    theme TEXT NOT NULL DEFAULT '',
    timecreated INTEGER NOT NULL DEFAULT 0,
    timemodified INTEGER NOT NULL DEFAULT 0,
    requested INTEGER NOT NULL DEFAULT 0,
    enablecompletion INTEGER NOT NULL DEFAULT 0,
    completionnotify INTEGER NOT NULL DEFAULT 0,
    cacherev INTEGER NOT NULL DEFAULT 0,
    originalcourseid INTEGER,
    showactivitydates INTEGER NOT NULL DEFAULT 0,
    showcompletionconditions INTEGER,
    pdfexportfont TEXT
);

CREATE TABLE "{prefix}course_categories" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL DEFAULT '',
    idnumber TEXT,
    description TEXT,
    descriptionformat INTEGER NOT NULL DEFAULT 0,
    parent INTEGER NOT NULL DEFAULT 0,
    sortorder INTEGER NOT NULL DEFAULT 0,
    coursecount INTEGER NOT NULL DEFAULT 0,
    visible INTEGER NOT NULL DEFAULT 1,
    visibleold INTEGER NOT NULL DEFAULT 1,
    timemodified INTEGER NOT NULL DEFAULT 0,
    depth INTEGER NOT NULL DEFAULT 0,
    path TEXT NOT NULL DEFAULT '',
    theme TEXT
);

CREATE TABLE "{prefix}user" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    auth TEXT NOT NULL DEFAULT 'manual',
    confirmed INTEGER NOT NULL DEFAULT 0,
    policyagreed INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    suspended INTEGER NOT NULL DEFAULT 0,
    mnethostid INTEGER NOT NULL DEFAULT 0,
    username TEXT NOT NULL DEFAULT '',
    password TEXT NOT NULL DEFAULT '',
    idnumber TEXT NOT NULL DEFAULT '',
    firstname TEXT NOT NULL DEFAULT '',
    lastname TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    emailstop INTEGER NOT NULL DEFAULT 0,
    phone1 TEXT NOT NULL DEFAULT '',
    phone2 TEXT NOT NULL DEFAULT '',
    institution TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT 'en',
    calendartype TEXT NOT NULL DEFAULT 'gregorian',
    theme TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT '99',
    firstaccess INTEGER NOT NULL DEFAULT 0,
    lastaccess INTEGER NOT NULL DEFAULT 0,
    lastlogin INTEGER NOT NULL DEFAULT 0,
    currentlogin INTEGER NOT NULL DEFAULT 0,
    lastip TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL DEFAULT '',
    picture INTEGER NOT NULL DEFAULT 0,
    description TEXT,
    descriptionformat INTEGER NOT NULL DEFAULT 1,
    mailformat INTEGER NOT NULL DEFAULT 1,
    maildigest INTEGER NOT NULL DEFAULT 0,
    maildisplay INTEGER NOT NULL DEFAULT 2,
    autosubscribe INTEGER NOT NULL DEFAULT 1,
    trackforums INTEGER NOT NULL DEFAULT 0,
    timecreated INTEGER NOT NULL DEFAULT 0,
    timemodified INTEGER NOT NULL DEFAULT 0,
    trustbitmask INTEGER NOT NULL DEFAULT 0,
    imagealt TEXT,
    lastnamephonetic TEXT,
    firstnamephonetic TEXT,
    middlename TEXT,
    alternatename TEXT,
    moodlenetprofile TEXT
);

CREATE TABLE "{prefix}user_enrolments" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status INTEGER NOT NULL DEFAULT 0,
    enrolid INTEGER NOT NULL,
    userid INTEGER NOT NULL,
    timestart INTEGER NOT NULL DEFAULT 0,
    timeend INTEGER NOT NULL DEFAULT 2147483647,
    modifierid INTEGER NOT NULL DEFAULT 0,
    timecreated INTEGER NOT NULL DEFAULT 0,
    timemodified INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "{prefix}enrol" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enrol TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 0,
    courseid INTEGER NOT NULL,
    sortorder INTEGER NOT NULL DEFAULT 0,
    name TEXT,
    enrolperiod INTEGER DEFAULT 0,
    enrolstartdate INTEGER DEFAULT 0,
    enrolenddate INTEGER DEFAULT 0,
    expirynotify INTEGER DEFAULT 0,
    expirythreshold INTEGER DEFAULT 0,
    notifyall INTEGER DEFAULT 0,
    password TEXT,
    cost TEXT,
    currency TEXT,
    roleid INTEGER DEFAULT 0,
    customint1 INTEGER,
    customint2 INTEGER,
    customint3 INTEGER,
    customint4 INTEGER,
    customint5 INTEGER,
    customint6 INTEGER,
    customint7 INTEGER,
    customint8 INTEGER,
    customchar1 TEXT,
    customchar2 TEXT,
    customchar3 TEXT,
    customdec1 NUMERIC,
    customdec2 NUMERIC,
    customtext1 TEXT,
    customtext2 TEXT,
    customtext3 TEXT,
    customtext4 TEXT,
    timecreated INTEGER NOT NULL DEFAULT 0,
    timemodified INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "{prefix}course_modules" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course INTEGER NOT NULL DEFAULT 0,
    module INTEGER NOT NULL DEFAULT 0,
    instance INTEGER NOT NULL DEFAULT 0,
    section INTEGER NOT NULL DEFAULT 0,
    idnumber TEXT,
    added INTEGER NOT NULL DEFAULT 0,
    score INTEGER NOT NULL DEFAULT 0,
    indent INTEGER NOT NULL DEFAULT 0,
    visible INTEGER NOT NULL DEFAULT 1,
    visibleoncoursepage INTEGER NOT NULL DEFAULT 1,
    visibleold INTEGER NOT NULL DEFAULT 1,
    groupmode INTEGER NOT NULL DEFAULT 0,
    groupingid INTEGER NOT NULL DEFAULT 0,
    completion INTEGER NOT NULL DEFAULT 0,
    completiongradeitemnumber INTEGER,
    completionview INTEGER NOT NULL DEFAULT 0,
    completionexpected INTEGER NOT NULL DEFAULT 0,
    completionpassgrade INTEGER NOT NULL DEFAULT 0,
    showdescription INTEGER NOT NULL DEFAULT 0,
    availability TEXT,
    deletioninprogress INTEGER NOT NULL DEFAULT 0,
    downloadcontent INTEGER DEFAULT 1,
    lang TEXT
);

CREATE TABLE "{prefix}course_modules_completion" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    coursemoduleid INTEGER NOT NULL,
    userid INTEGER NOT NULL,
    completionstate INTEGER NOT NULL,
    overrideby INTEGER,
    timemodified INTEGER NOT NULL
);

CREATE TABLE "{prefix}course_completions" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    userid INTEGER NOT NULL DEFAULT 0,
    course INTEGER NOT NULL DEFAULT 0,
    timeenrolled INTEGER NOT NULL DEFAULT 0,
    timestarted INTEGER NOT NULL DEFAULT 0,
    timecompleted INTEGER,
    reaggregate INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "{prefix}context" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contextlevel INTEGER NOT NULL DEFAULT 0,
    instanceid INTEGER NOT NULL DEFAULT 0,
    path TEXT,
    depth INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "{prefix}config_plugins" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin TEXT NOT NULL DEFAULT 'core',
    name TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL
);

CREATE INDEX "{prefix}logsstanlog_tim_ix" ON "{prefix}logstore_standard_log" (timecreated);

CREATE UNIQUE INDEX "{prefix}user_mneuse_uix" ON "{prefix}user" (mnethostid, username);

CREATE UNIQUE INDEX "{prefix}userenro_enruse_uix" ON "{prefix}user_enrolments" (enrolid, userid);

CREATE UNIQUE INDEX "{prefix}courmoducomp_usecou_uix" ON "{prefix}course_modules_completion" (userid, coursemoduleid);

CREATE UNIQUE INDEX "{prefix}courcomp_usecou_uix" ON "{prefix}course_completions" (userid, course);

CREATE UNIQUE INDEX "{prefix}cont_conins_uix" ON "{prefix}context" (contextlevel, instanceid);

CREATE UNIQUE INDEX "{prefix}confplug_plunam_uix" ON "{prefix}config_plugins" (plugin, name);
