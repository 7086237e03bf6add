//! Stage 5, write: the rendered files → OUT on disk.
//! (Minimal writer; the output-discipline issue adds the manifest, `--check`, stale-file removal
//! and atomic replacement.)

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::render::OutFile;

/// Writes every file under `out`, creating directories, with each file's mode.
pub fn write(out: &Path, files: &[OutFile]) -> io::Result<()> {
    for f in files {
        let dest = out.join(&f.path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&dest, &f.contents)?;
        fs::set_permissions(&dest, fs::Permissions::from_mode(f.mode))?;
    }
    Ok(())
}
